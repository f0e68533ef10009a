-- Arena battles: which functions answered under which label stays server-side until the vote.
-- The primary key of arena_votes is what makes a second vote by the same user a conflict.
CREATE TABLE arena_battles (
  id          text        PRIMARY KEY,
  category    text        NOT NULL,
  user_id     text        NOT NULL,
  input       jsonb       NOT NULL,
  models      jsonb       NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX arena_battles_category_idx ON arena_battles (category);

CREATE TABLE arena_votes (
  battle_id  text        NOT NULL REFERENCES arena_battles (id) ON DELETE CASCADE,
  user_id    text        NOT NULL,
  ranks      jsonb       NOT NULL,
  all_bad    boolean     NOT NULL,
  voted_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (battle_id, user_id)
);
CREATE INDEX arena_votes_user_idx ON arena_votes (user_id, voted_at);
