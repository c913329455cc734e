//! Finding a fixed text in every migration file, fast even in the unoptimised build
//! the macro runs in: the layout's signals and the deploy directives are looked
//! for in each file of the folder on every build.

/// Whether `text` contains `needle`, found from the occurrences of `key`, a
/// character of the needle that is rare in SQL: `str::find` with a character
/// locates them with `memchr`, even in the unoptimised build the macro runs in,
/// where `str::contains` with a string is seven times slower (it runs on every file
/// of the folder on every build).
pub(in crate::check) fn contains(text: &str, needle: &str, key: char) -> bool {
    let Some(at) = needle.find(key) else {
        return text.contains(needle);
    };
    let mut from = 0;
    while let Some(found) = text[from..].find(key) {
        let hit = from + found;
        if hit >= at && text.as_bytes()[hit - at..].starts_with(needle.as_bytes()) {
            return true;
        }
        from = hit + key.len_utf8();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`contains`] says what `str::contains` says, for texts made of the needle's
    /// pieces, the key repeated, and other characters, non-ASCII ones included.
    #[test]
    fn contains_from_a_key_character_agrees_with_str_contains() {
        let mut rng = fastrand::Rng::with_seed(19);
        let needles = [
            ("-- +goose", '+'),
            ("migrate:up", ':'),
            ("--> statement-breakpoint", '>'),
            ("migrate:allow", ':'),
            ("++", '+'),
            ("é:é", ':'),
            ("abc", 'z'),
        ];
        let pieces = [
            "-- ",
            "+",
            "goose",
            "migrate",
            ":",
            "up",
            "-->",
            " statement-breakpoint",
            "é",
            "\n",
            "x",
            "++",
            "allow",
            "--",
            ">",
        ];
        let mut yes = 0;
        for _ in 0..20_000 {
            let text: String = (0..rng.usize(0..12))
                .map(|_| pieces[rng.usize(..pieces.len())])
                .collect();
            let (needle, key) = needles[rng.usize(..needles.len())];
            let expected = text.contains(needle);
            assert_eq!(
                contains(&text, needle, key),
                expected,
                "{text:?} {needle:?}"
            );
            yes += usize::from(expected);
        }
        assert!(yes > 500, "{yes}");
    }
}
