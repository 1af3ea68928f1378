"""Admin endpoints: the office, its services, counters, staff, devices and settings (admin edits)."""
