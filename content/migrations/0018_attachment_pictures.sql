-- What residents are shown of an attachment: the screen-sized version of an image,
-- or the page images of a PDF rasterised on the hub at upload. A JSON array of
-- {"sha256", "mime", "width", "height", "size"}, in page order. These blobs travel
-- in bundles; a PDF's original stays on the hub for staff.
ALTER TABLE attachment ADD COLUMN pictures TEXT NOT NULL DEFAULT '[]'
    CHECK (json_valid(pictures) AND json_type(pictures) = 'array');
