"""The state model: pure functions that say what a URL, a page or a change means."""
