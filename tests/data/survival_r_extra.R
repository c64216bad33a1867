# Extra R reference values for teachkit/survival.py (Kaplan-Meier CIs of the three
# conf types, n.censor, medians with CIs, reverse-KM median, stratified survdiff).
# Run from tests/data/:  Rscript survival_r_extra.R > survival_r_extra.json
# Needs only base R + survival (tested with R 4.2.2, survival 3.5-3).
suppressPackageStartupMessages(library(survival))

num <- function(x) {
  if (length(x) == 0) return("[]")
  s <- ifelse(is.na(x) | is.nan(x), "null",
       ifelse(is.infinite(x), ifelse(x > 0, "\"Inf\"", "\"-Inf\""), sprintf("%.17g", x)))
  paste0("[", paste(s, collapse = ","), "]")
}
js <- function(x) {
  if (is.list(x)) {
    if (!is.null(names(x))) {
      parts <- mapply(function(k, v) paste0("\"", k, "\":", js(v)), names(x), x)
      return(paste0("{", paste(parts, collapse = ",\n"), "}"))
    }
    return(paste0("[", paste(sapply(x, js), collapse = ",\n"), "]"))
  }
  if (is.character(x)) return(if (length(x) == 1) paste0("\"", x, "\"") else
                                 paste0("[", paste0("\"", x, "\"", collapse = ","), "]"))
  if (is.logical(x) && length(x) == 1) return(if (isTRUE(x)) "true" else "false")
  num(as.numeric(x))
}

fr <- read.csv("freireich_6mp.csv")
am <- read.csv("aml.csv")

set.seed(20260101)
# simulated: integer-rounded times (many ties), heavy censoring, 3 strata, 2 arms
n <- 120
sim_group <- rep(c("A", "B"), length.out = n)
sim_strata <- sample(c("s1", "s2", "s3"), n, replace = TRUE)
haz <- ifelse(sim_group == "B", 0.06, 0.10) * ifelse(sim_strata == "s1", 0.5, ifelse(sim_strata == "s2", 1, 2))
t_ev <- rexp(n, haz); t_ce <- runif(n, 0, 15)
sim_time <- pmax(1, ceiling(pmin(t_ev, t_ce)))
sim_event <- as.integer(t_ev <= t_ce)
# one stratum ("s4") that contains only arm A: contributes nothing to the stratified test
sim4_time <- c(sim_time, 3, 5, 5, 9); sim4_event <- c(sim_event, 1, 1, 0, 1)
sim4_group <- c(sim_group, "A", "A", "A", "A"); sim4_strata <- c(sim_strata, rep("s4", 4))

cases <- list(
  freireich_6mp = list(time = fr$time[fr$group == "6-MP"], event = fr$event[fr$group == "6-MP"]),
  freireich_placebo = list(time = fr$time[fr$group == "placebo"], event = fr$event[fr$group == "placebo"]),
  freireich_pooled = list(time = fr$time, event = fr$event),
  freireich_reverse = list(time = fr$time, event = 1 - fr$event),
  aml_maintained = list(time = am$time[am$x == "Maintained"], event = am$status[am$x == "Maintained"]),
  aml_nonmaintained = list(time = am$time[am$x == "Nonmaintained"], event = am$status[am$x == "Nonmaintained"]),
  flat_half = list(time = c(1, 2, 3, 4), event = c(1, 1, 0, 1)),
  flat_half_end = list(time = c(1, 2, 3, 4), event = c(1, 1, 0, 0)),
  not_reached = list(time = c(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), event = c(0, 1, 0, 0, 1, 0, 0, 0, 1, 0)),
  censor_first = list(time = c(1, 1, 2, 3, 3, 3, 4, 5, 6, 7, 8, 8), event = c(0, 0, 1, 1, 1, 0, 0, 1, 1, 0, 1, 0)),
  no_events = list(time = c(2, 3, 5), event = c(0, 0, 0)),
  all_at_once = list(time = c(5, 5, 5), event = c(1, 1, 1)),
  sim_ties = list(time = sim_time, event = sim_event),
  sim_ties_reverse = list(time = sim_time, event = 1 - sim_event)
)

km_out <- list()
for (nm in names(cases)) {
  d <- cases[[nm]]
  res <- list(time_in = d$time, event_in = d$event)
  for (ct in c("log-log", "log", "plain")) {
    f <- survfit(Surv(d$time, d$event) ~ 1, conf.type = ct)
    q <- quantile(f, probs = 0.5)
    key <- gsub("-", "_", ct)
    res$time <- f$time; res$n_risk <- f$n.risk; res$n_event <- f$n.event; res$n_censor <- f$n.censor
    res$surv <- f$surv; res$std_err_log <- f$std.err; res$std_err <- f$surv * f$std.err
    res[[paste0("lower_", key)]] <- f$lower; res[[paste0("upper_", key)]] <- f$upper
    res[[paste0("median_", key)]] <- c(q$quantile, q$lower, q$upper)
  }
  f90 <- survfit(Surv(d$time, d$event) ~ 1, conf.type = "log-log", conf.int = 0.90)
  res$lower_log_log_90 <- f90$lower; res$upper_log_log_90 <- f90$upper
  km_out[[nm]] <- res
}

lr_cases <- list(
  freireich = list(time = fr$time, event = fr$event, group = fr$group, strata = NULL),
  aml = list(time = am$time, event = am$status, group = am$x, strata = NULL),
  sim = list(time = sim_time, event = sim_event, group = sim_group, strata = NULL),
  sim_strat = list(time = sim_time, event = sim_event, group = sim_group, strata = sim_strata),
  sim_strat_onearm = list(time = sim4_time, event = sim4_event, group = sim4_group, strata = sim4_strata)
)
lr_out <- list()
for (nm in names(lr_cases)) {
  d <- lr_cases[[nm]]
  if (is.null(d$strata)) {
    s <- survdiff(Surv(d$time, d$event) ~ d$group)
    obs <- s$obs
  } else {
    s <- survdiff(Surv(d$time, d$event) ~ d$group + strata(d$strata))
    obs <- rowSums(s$obs)
  }
  res <- list(time = d$time, event = d$event, group = as.character(d$group))
  if (!is.null(d$strata)) res$strata <- as.character(d$strata)
  res$groups <- sort(unique(as.character(d$group)))
  res$chisq <- s$chisq; res$obs <- obs
  res$exp <- if (is.matrix(s$exp)) rowSums(s$exp) else s$exp; res$var <- s$var[1, 1]
  res$p_value <- pchisq(s$chisq, 1, lower.tail = FALSE)
  res$call <- if (is.null(d$strata)) "survdiff(Surv(time, event) ~ group)" else
    "survdiff(Surv(time, event) ~ group + strata(strata))"
  lr_out[[nm]] <- res
}

cat(js(list(
  `_about` = paste0("Generated by tests/data/survival_r_extra.R with ", R.version.string,
                    ", survival ", as.character(packageVersion("survival")),
                    ": survfit KM (time, n.risk, n.event, n.censor, surv, std.err of log S, ",
                    "SE of S = surv*std.err, lower/upper for conf.type log-log/log/plain at 95% and log-log at 90%), ",
                    "quantile(fit, 0.5) (median, lower, upper) per conf.type; survdiff (chisq, obs, exp, var[1,1]).",
                    " Inputs are stored with the outputs; freireich/aml read from the CSVs in this folder."),
  km = km_out, logrank = lr_out)), "\n")
