-- A session keeps a copy of its user at login (store.Session.User) as JSON;
-- NULL for sessions without one.
ALTER TABLE wxkit_sessions ADD COLUMN user_json TEXT;
