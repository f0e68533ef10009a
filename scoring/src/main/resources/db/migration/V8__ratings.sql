-- Human ratings: one per user per function (editable), optional feedback text that the function's
-- developer can mark helpful ("good open feedback").
CREATE TABLE ratings (
  function_name  text        NOT NULL,
  user_id        text        NOT NULL,
  stars          smallint    NOT NULL CHECK (stars BETWEEN 1 AND 5),
  feedback       text,
  helpful        boolean     NOT NULL DEFAULT false,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (function_name, user_id)
);
