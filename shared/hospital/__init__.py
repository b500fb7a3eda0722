"""Hospital appointment parking (S12): a quota of spaces per time slot, booked with a plate and an
appointment time; entry within a window; unused bookings released as no-shows; repeated no-shows limited."""
