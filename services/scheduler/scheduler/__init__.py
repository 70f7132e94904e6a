"""The scheduler service: interviewers, slots, invitations and bookings."""
