-- The customers of :score_date's published scores who are sent their segment's offer
-- (send_offer; scores published before targeting: the treatment group): what a campaign tool
-- reads, and what the synthetic history treats.
SELECT customer_id, segment
FROM scoring.churn_scores
WHERE score_date = :score_date AND coalesce(send_offer, offer_group = 'treatment')
ORDER BY customer_id;
