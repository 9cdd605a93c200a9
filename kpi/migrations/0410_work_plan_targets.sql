-- Targets shipped from the 2020 work plan (《广东省数字政府改革建设2020年工作要点》), where they map to a
-- KPI of this product: the plan's time limits (一般登记3个工作日内、抵押登记1个工作日内办结) demand that
-- every item is finished within its limit, i.e. an on-time rate of 100 %. Province-wide, standing.
-- Every other quantitative target of the plan and why it does not apply: kpi/data/work_plan_2020.csv.
INSERT INTO kpi_targets (kpi_id, region, target, source, note, created_by) VALUES
    ('task_on_time', '44', 100, '2020年工作要点',
     '办结时限：一般登记3个工作日内、抵押登记1个工作日内办结——时限内办结即按期率100%', 'system');
