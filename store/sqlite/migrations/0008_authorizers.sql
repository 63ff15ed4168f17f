-- The accounts that authorized an Open Platform component (store.Authorizers).
-- refresh_token is the caller's ciphertext of the authorizer_refresh_token,
-- kept durably: rows never expire. func_info is a JSON array of the granted
-- funcscope_category ids. Times are Unix milliseconds.
CREATE TABLE wxkit_authorizers (
	component_appid TEXT    NOT NULL,
	appid           TEXT    NOT NULL,
	refresh_token   BLOB    NOT NULL DEFAULT x'',
	func_info       TEXT    NOT NULL DEFAULT '[]',
	nickname        TEXT    NOT NULL DEFAULT '',
	user_name       TEXT    NOT NULL DEFAULT '',
	authorized      INTEGER NOT NULL DEFAULT 1,
	created_at      INTEGER NOT NULL,
	updated_at      INTEGER NOT NULL,
	PRIMARY KEY (component_appid, appid)
) WITHOUT ROWID;
