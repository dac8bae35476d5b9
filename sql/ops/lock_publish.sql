-- Publishes of one layer take turns (until commit). Each counts its staged rows (a shared lock on
-- the staged parent table) before it detaches its date's partition (an exclusive lock on that
-- parent): two publishes of different dates side by side would each wait for the other's shared
-- lock, a deadlock. Taken first in the publish transaction, before any table lock.
SELECT pg_advisory_xact_lock(727201, hashtext(:layer));
