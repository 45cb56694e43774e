"""People: profiles, identities and their resolution, events as stored, activity.

Every surface sees the same customers; the changes published here
(:mod:`.changes`) are what other capabilities react to."""
