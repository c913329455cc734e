-- migrate:no-transaction
DROP TABLE blobs;
VACUUM;
