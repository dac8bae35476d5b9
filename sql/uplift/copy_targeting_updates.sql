COPY targeting_updates (customer_id, offer_group, send_offer, treatment_probability, expected_uplift, expected_value, contact_cost, policy) FROM STDIN WITH (FORMAT csv)
