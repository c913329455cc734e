-- `shout` is registered by the application on its own connection.
CREATE VIEW loud_notes AS SELECT id, shout(body) AS body FROM notes;
