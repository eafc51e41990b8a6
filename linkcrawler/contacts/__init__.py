"""W6: who is behind a linking site (contacts) and the one outreach queue."""
