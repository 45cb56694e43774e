"""The ``patron`` command's sub-commands, by capability, and what they share."""
