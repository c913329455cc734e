PRAGMA legacy_alter_table = ON;
ALTER TABLE meal_plan RENAME TO meal_plan_old;
CREATE TABLE meal_plan (id INTEGER PRIMARY KEY, product_id INTEGER, note TEXT);
INSERT INTO meal_plan (id, product_id) SELECT id, product_id FROM meal_plan_old;
DROP TABLE meal_plan_old;
CREATE TRIGGER mp_ins AFTER INSERT ON meal_plan BEGIN INSERT INTO log (n) VALUES (NEW.id); END;
