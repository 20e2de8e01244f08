-- The operator filters sessions by what was played (an SRM contentID, an Adobe media.id)
-- in the query, newest first, so a filter never looks at just the newest rows. Adobe sessions
-- started before this kept their media.id only in params: it becomes their content (a
-- params text holding an escaped NUL, which jsonb refuses, keeps none).
UPDATE sessions SET content_id = params::jsonb ->> 'media.id'
    WHERE api = 'adobe' AND content_id IS NULL AND strpos(params, '\u0000') = 0;
CREATE INDEX sessions_by_content ON sessions (content_id, started_at) WHERE content_id IS NOT NULL;
