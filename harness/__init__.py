"""What the tests and the benchmarks both run against: a throwaway PostgreSQL server and a
``grader serve`` subprocess. Not installed with the package."""
