"""GitHub plumbing: one-time repository set-up and workflow annotations."""
