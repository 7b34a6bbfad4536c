-- The Metro 2 Identification Number (field 5) of a record, kept as the furnisher gave it.
ALTER TABLE record ADD COLUMN reporter_id TEXT;
ALTER TABLE record_history ADD COLUMN reporter_id TEXT;
