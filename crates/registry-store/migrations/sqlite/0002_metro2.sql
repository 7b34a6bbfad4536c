-- Metro 2 furnishing: the format of each submitted file, and the Identification Number
-- (field 5) of each record, kept as the furnisher gave it.
ALTER TABLE submission ADD COLUMN format TEXT NOT NULL DEFAULT 'jsonl' CHECK (format IN ('jsonl', 'metro2'));
ALTER TABLE record ADD COLUMN reporter_id TEXT;
ALTER TABLE record_history ADD COLUMN reporter_id TEXT;
