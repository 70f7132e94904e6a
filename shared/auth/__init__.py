"""Who may call: bearer JWTs for staff, link tokens for candidates, signatures for vendors."""
