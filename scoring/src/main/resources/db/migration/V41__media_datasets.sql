-- Labelled media sets (a zip of PNG/JPEG images or WAV clips with labels.csv) are stored as rows like any
-- dataset, each row holding one file in base64; their format is 'zip'.
ALTER TABLE eval_datasets DROP CONSTRAINT IF EXISTS eval_datasets_format_check;
ALTER TABLE eval_datasets ADD CONSTRAINT eval_datasets_format_check CHECK (format IN ('jsonl', 'csv', 'zip'));
