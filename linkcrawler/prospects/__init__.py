"""W3 broken link building on other sites: broken outbound links of prospect pages, the
link gap against competitors, and scored opportunities (see README, "Prospects")."""
