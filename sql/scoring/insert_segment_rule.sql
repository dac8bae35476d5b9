-- One segment of a rule file version (first use of the version).
INSERT INTO scoring.segment_rules (
    rules_version, segment, precedence, title, description, offer_code, offer, conditions, rules_sha256
)
VALUES (
    :rules_version, :segment, :precedence, :title, :description, :offer_code, :offer,
    CAST(:conditions AS jsonb), :rules_sha256
);
