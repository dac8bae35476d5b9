-- Landing tables for one load: every field as text, numbered in file order (line_no 1 = the
-- first data line). They vanish at commit or rollback.
CREATE TEMP TABLE load_market_file (
    line_no bigint GENERATED ALWAYS AS IDENTITY,
    customer_id text, activity text, service_type text, allow_messages text, marketing_6m text,
    marketing_current_month text, tenure_days text, promo_share text, popular_category text,
    avg_categories_per_visit text, unpaid_items_quarter text, service_errors text, pages_per_visit text
) ON COMMIT DROP;

CREATE TEMP TABLE load_market_money (
    line_no bigint GENERATED ALWAYS AS IDENTITY,
    customer_id text, period text, revenue text
) ON COMMIT DROP;

CREATE TEMP TABLE load_market_time (
    line_no bigint GENERATED ALWAYS AS IDENTITY,
    customer_id text, period text, minutes text
) ON COMMIT DROP;

CREATE TEMP TABLE load_money (
    line_no bigint GENERATED ALWAYS AS IDENTITY,
    customer_id text, profit text
) ON COMMIT DROP;
