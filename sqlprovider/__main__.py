import sys

from sqlprovider.cli import main

sys.exit(main())
