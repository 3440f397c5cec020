"""Issue 13: the images attached to uses, their C2PA content credentials, and the public image check."""
