"""The queries of people: profiles, identities, events, groups."""
