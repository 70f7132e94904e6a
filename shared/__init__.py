"""Infrastructure every service of the recruiting suite needs; no domain logic lives here."""
