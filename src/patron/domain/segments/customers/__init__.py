"""Customer segments: static lists, or filters whose members are kept live."""
