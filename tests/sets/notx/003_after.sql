CREATE INDEX events_payload ON events (payload);
