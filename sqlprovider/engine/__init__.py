"""The SQL engine: the statement front end, the virtual table, the planner, fetching, writes and EXEC."""
