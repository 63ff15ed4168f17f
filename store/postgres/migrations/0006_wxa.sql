-- 0006_wxa: Mini Program login. A session keeps its session_key sealed by
-- the gateway (store.Session.SealedSessionKey; NULL for web login), and a
-- user the phone number getPhoneNumber gave (store.User.PhoneNumber; ''
-- when unknown).
ALTER TABLE wxkit_sessions ADD COLUMN sealed_session_key bytea;
ALTER TABLE wxkit_users ADD COLUMN phone_number text NOT NULL DEFAULT '';
