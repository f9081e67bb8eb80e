"""Task 2 of the report: telling the time from analog clock images."""
