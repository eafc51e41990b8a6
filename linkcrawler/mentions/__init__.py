"""W2: brand mentions found on pages, whether they link to us, and when they become links."""
