"""Reports for a date range: tickets, waits, service times, satisfaction, on-time dossiers."""
