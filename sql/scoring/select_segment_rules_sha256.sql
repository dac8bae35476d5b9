-- Content hash(es) recorded for a rule file version (one, unless someone edited without bumping).
SELECT DISTINCT rules_sha256 FROM scoring.segment_rules WHERE rules_version = :rules_version;
