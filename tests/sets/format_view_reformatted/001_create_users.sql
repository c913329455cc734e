create table users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE
);

create view user_domains as
select id,
       substr(email,
              instr(email, '@') + 1)
from users;
