"""The queries of the promotions capability: applications, campaigns, codes, loyalty, sessions."""
