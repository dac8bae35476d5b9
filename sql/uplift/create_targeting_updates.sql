-- A session table the targeting step COPYs its decisions into before one UPDATE applies them.
CREATE TEMPORARY TABLE targeting_updates (
    customer_id            bigint PRIMARY KEY,
    offer_group            text NOT NULL,
    send_offer             boolean NOT NULL,
    treatment_probability  double precision NOT NULL,
    expected_uplift        double precision,
    expected_value         double precision,
    contact_cost           double precision NOT NULL,
    policy                 text NOT NULL
) ON COMMIT DROP;
