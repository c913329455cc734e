CREATE TABLE settings (user_id INTEGER NOT NULL, key TEXT NOT NULL, value TEXT, PRIMARY KEY (user_id, key));
-- user_setting(user, key) is registered by the application on its connection.
CREATE VIEW themes AS SELECT DISTINCT user_id, user_setting(user_id, 'theme') AS theme FROM settings;
