"""Collections: the dunning run, reminders, promises to pay, the worklist and statements."""
