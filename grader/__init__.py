"""The grading engine: reads answers as students write them and grades them against the
problem bank's reference answers. Pure: no files, no database, no web."""
