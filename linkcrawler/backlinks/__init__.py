"""backlinks"""
