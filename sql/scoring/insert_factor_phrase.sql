-- One reason phrase of a rule file version (kept if the version has it already: same content).
INSERT INTO scoring.factor_phrases (rules_version, feature, direction, phrase)
VALUES (:rules_version, :feature, :direction, :phrase)
ON CONFLICT (rules_version, feature, direction) DO NOTHING;
