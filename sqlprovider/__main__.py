import sys

from sqlprovider.cli.main import main

sys.exit(main())
