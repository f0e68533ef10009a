-- Remote nodes (inferium node, connecting to the gateway's node port): each belongs to one operator (the
-- operator key it registered with) and starts with no stake.
ALTER TABLE nodes ADD COLUMN operator_key_id text;
ALTER TABLE nodes ADD COLUMN remote boolean NOT NULL DEFAULT false;
