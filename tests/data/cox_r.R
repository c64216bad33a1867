# Reference values for teachkit.cox, produced with R's survival package.
#
#   Rscript tests/data/cox_r.R > tests/data/cox_r.json
#
# (run from the repository root; needs R >= 4.0 and survival >= 3.0, nothing else).
# Data sets: the Freireich et al. (1963) 6-MP remission data (tests/data/freireich_6mp.csv,
# a copy of the 6-MP data the project ships), survival's own `aml`, and a small simulated
# data set (set.seed below) with three strata, a treatment indicator, a continuous age,
# tied integer times and about 45% censoring.  The data each fit used are written into the
# JSON next to the results, so the Python tests need neither R nor any other file.
suppressPackageStartupMessages(library(survival))
stopifnot(packageVersion("survival") >= "3.0")

num <- function(x) {
  if (length(x) == 0) return("[]")
  s <- ifelse(is.na(x), "null", sprintf("%.17g", as.numeric(x)))
  s[is.infinite(x) & x > 0] <- "1e999"
  if (length(x) == 1) s else paste0("[", paste(s, collapse = ", "), "]")
}
str_ <- function(x) {
  s <- paste0('"', gsub('"', '\\\\"', x), '"')
  if (length(x) == 1) s else paste0("[", paste(s, collapse = ", "), "]")
}
mat <- function(m) {  # row-major list of rows
  m <- as.matrix(m)
  paste0("[", paste(apply(m, 1, function(r) num_vec(r)), collapse = ", "), "]")
}
str_vec <- function(x) paste0("[", paste0('"', x, '"', collapse = ", "), "]")
num_vec <- function(x) paste0("[", paste(ifelse(is.na(x), "null", sprintf("%.17g", x)), collapse = ", "), "]")
obj <- function(...) {
  kv <- list(...)
  paste0("{", paste(sprintf('"%s": %s', names(kv), unlist(kv)), collapse = ", "), "}")
}

fit_json <- function(fit) {
  s <- summary(fit)
  obj(coef = num_vec(coef(fit)),
      names = str_vec(names(coef(fit))),
      se = num_vec(sqrt(diag(fit$var))),
      var = mat(fit$var),
      hr = num_vec(exp(coef(fit))),
      lo = num_vec(s$conf.int[, "lower .95"]),
      hi = num_vec(s$conf.int[, "upper .95"]),
      z = num_vec(s$coefficients[, "z"]),
      p = num_vec(s$coefficients[, "Pr(>|z|)"]),
      loglik = num_vec(fit$loglik),
      lr = num(s$logtest[["test"]]), lr_df = num(s$logtest[["df"]]),
      lr_p = num(s$logtest[["pvalue"]]),
      # summary.coxph rounds the Wald statistic to 2 decimals (round(cox$wald.test, 2));
      # fit$wald.test is the unrounded value.  Its p-value is computed unrounded.
      wald = num(fit$wald.test), wald_summary = num(s$waldtest[["test"]]),
      wald_p = num(s$waldtest[["pvalue"]]),
      score = num(s$sctest[["test"]]), score_p = num(s$sctest[["pvalue"]]),
      n = num(fit$n), nevent = num(fit$nevent), iter = num(fit$iter),
      method = str_(fit$method))
}
zph_json <- function(fit) {
  parts <- lapply(c("km", "identity", "rank"), function(tr) {
    z <- cox.zph(fit, transform = tr)
    obj(rows = str_vec(rownames(z$table)),
        chisq = num_vec(z$table[, "chisq"]),
        df = num_vec(z$table[, "df"]),
        p = num_vec(z$table[, "p"]),
        x = num_vec(z$x), time = num_vec(z$time),
        y = mat(z$y),
        strata = if (is.null(z$strata)) "null" else str_vec(as.character(z$strata)),
        var = mat(z$var))
  })
  names(parts) <- c("km", "identity", "rank")
  do.call(obj, parts)
}
case <- function(formula, data, ties, about) {
  fit <- do.call("coxph", list(formula = formula, data = data, ties = ties))
  obj(about = str_(about),
      call = str_(paste0("coxph(", deparse(formula), ", ties = \"", ties, "\")")),
      fit = fit_json(fit), zph = zph_json(fit))
}

# ---- data -------------------------------------------------------------------------
frei <- read.csv("tests/data/freireich_6mp.csv")
frei$mp <- as.numeric(frei$group == "6-MP")
aml2 <- survival::aml
aml2$nonmaint <- as.numeric(aml2$x == "Nonmaintained")

set.seed(20210302)
n <- 120
strat <- sample(c("a", "b", "c"), n, replace = TRUE, prob = c(0.5, 0.3, 0.2))
trt <- rbinom(n, 1, 0.5)
age <- round(runif(n, 1, 30), 1)
base <- c(a = 0.05, b = 0.10, c = 0.20)[strat]
rate <- base * exp(-0.6 * trt + 0.03 * (age - 15))
tev <- rexp(n, rate)
# a treatment effect that fades with time, so the PH test has something to find
tev <- ifelse(trt == 1 & tev > 10, 10 + (tev - 10) * 0.5, tev)
tcens <- runif(n, 2, 30)
sim <- data.frame(time = pmax(1, ceiling(pmin(tev, tcens))),
                  status = as.integer(tev <= tcens),
                  trt = trt, age = age, stratum = strat)
# a treatment indicator that is constant (0) in stratum "c": cox.zph then leaves the
# scaled residuals of that stratum's events NA for this covariate
sim$trt_ab <- ifelse(sim$stratum == "c", 0, sim$trt)

# a skewed covariate for which the first Newton step from beta = 0 overshoots and
# lowers the log-likelihood, so coxph has to step-halve (found by searching seeds)
halving <- data.frame(
  time = c(1, 1, 2, 1, 2, 9, 1, 2, 1, 1, 2, 1, 2, 3, 1, 1, 1, 1, 4, 1, 1, 1, 1, 1, 1, 1, 2),
  status = c(1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1),
  x = c(0.02, 1.87, 0.43, 0.51, 0.72, 0.05, 0.71, 0.27, 146.13, 1.4, 0.59, 0.66, 0.37, 0.21,
        0.56, 2.06, 0.7, 4.21, 0.74, 1.04, 10.16, 2.27, 0.47, 0.76, 2.25, 18.22, 0.67))

data_json <- obj(
  freireich = obj(time = num_vec(frei$time), status = num_vec(frei$event),
                  mp = num_vec(frei$mp)),
  aml = obj(time = num_vec(aml2$time), status = num_vec(aml2$status),
            nonmaint = num_vec(aml2$nonmaint)),
  sim = obj(time = num_vec(sim$time), status = num_vec(sim$status),
            trt = num_vec(sim$trt), age = num_vec(sim$age), trt_ab = num_vec(sim$trt_ab),
            stratum = str_(sim$stratum)),
  halving = obj(time = num_vec(halving$time), status = num_vec(halving$status),
                x = num_vec(halving$x)))

cases <- list(
  freireich_efron = case(Surv(time, event) ~ mp, frei, "efron",
                         "Freireich 6-MP data, 6-MP indicator"),
  freireich_breslow = case(Surv(time, event) ~ mp, frei, "breslow",
                           "Freireich 6-MP data, 6-MP indicator"),
  aml_efron = case(Surv(time, status) ~ nonmaint, aml2, "efron",
                   "survival::aml, Nonmaintained indicator"),
  aml_breslow = case(Surv(time, status) ~ nonmaint, aml2, "breslow",
                     "survival::aml, Nonmaintained indicator"),
  sim_efron = case(Surv(time, status) ~ trt + age, sim, "efron",
                   "simulated, two covariates, no strata"),
  sim_breslow = case(Surv(time, status) ~ trt + age, sim, "breslow",
                     "simulated, two covariates, no strata"),
  sim_strata_efron = case(Surv(time, status) ~ trt + age + strata(stratum), sim, "efron",
                          "simulated, two covariates, stratified"),
  sim_strata_breslow = case(Surv(time, status) ~ trt + age + strata(stratum), sim,
                            "breslow", "simulated, two covariates, stratified"),
  sim_strata_trt_efron = case(Surv(time, status) ~ trt + strata(stratum), sim, "efron",
                              "simulated, treatment only, stratified"),
  sim_strata_partial_efron = case(Surv(time, status) ~ trt_ab + age + strata(stratum), sim,
                                  "efron", "simulated, stratified, trt_ab constant in stratum c"),
  halving_efron = case(Surv(time, status) ~ x, halving, "efron",
                       "skewed covariate: the first Newton step is halved"),
  halving_breslow = case(Surv(time, status) ~ x, halving, "breslow",
                         "skewed covariate: the first Newton step is halved")
)

# ---- many small random data sets: heavy ties, strata, near-separation ---------------
# Each is fitted like the cases above.  R's warnings ("coefficient may be infinite",
# "Ran out of iterations") are recorded as errors, as are NA coefficients and cox.zph
# failures, so the tests can check that teachkit refuses exactly those fits.
zph_or_error <- function(fit) {
  parts <- lapply(c("km", "identity", "rank"), function(tr) {
    z <- tryCatch(cox.zph(fit, transform = tr), error = function(e) conditionMessage(e))
    if (is.character(z)) return(obj(error = str_(z)))
    # the scaled residuals do not depend on the transform: stored once, with km
    if (tr == "km") obj(chisq = num_vec(z$table[, "chisq"]), p = num_vec(z$table[, "p"]),
                        y = mat(z$y), x = num_vec(z$x))
    else obj(chisq = num_vec(z$table[, "chisq"]), p = num_vec(z$table[, "p"]), x = num_vec(z$x))
  })
  names(parts) <- c("km", "identity", "rank")
  do.call(obj, parts)
}
set.seed(1331)
random_cases <- vapply(1:40, function(i) {
  n <- sample(8:60, 1)
  n_times <- sample(2:25, 1)
  d <- data.frame(time = sample(1:n_times, n, replace = TRUE),
                  status = as.integer(runif(n) > runif(1, 0, 0.8)),
                  x1 = round(rnorm(n), 3), x2 = rbinom(n, 1, 0.5),
                  s = sample(c("a", "b", "c"), n, replace = TRUE))
  ties <- if (i %% 3 == 0) "breslow" else "efron"
  stratified <- i %% 2 == 1
  f <- if (stratified) Surv(time, status) ~ x1 + x2 + strata(s) else Surv(time, status) ~ x1 + x2
  fit <- tryCatch(withCallingHandlers(do.call("coxph", list(formula = f, data = d, ties = ties)),
                                      warning = function(w) stop(conditionMessage(w))),
                  error = function(e) conditionMessage(e))
  head <- obj(time = num_vec(d$time), status = num_vec(d$status), x1 = num_vec(d$x1),
              x2 = num_vec(d$x2), s = str_vec(d$s), ties = str_(ties),
              stratified = if (stratified) "true" else "false")
  if (is.character(fit)) {
    tail <- obj(error = str_(fit))
  } else if (any(is.na(coef(fit)))) {
    tail <- obj(error = str_("NA coefficient (covariates not identifiable)"))
  } else {
    tail <- obj(fit = fit_json(fit), zph = zph_or_error(fit))
  }
  paste0(substr(head, 1, nchar(head) - 1), ", ", substr(tail, 2, nchar(tail)))
}, character(1))

cat(obj(
  `_about` = str_(paste0(
    "Produced by tests/data/cox_r.R with ", R.version.string, ", survival ",
    as.character(packageVersion("survival")),
    ": coxph fits (coef, se, var, hr and 95% CI, z, p, loglik at 0 and at the estimate, ",
    "likelihood-ratio/Wald/score tests) and cox.zph(transform = km/identity/rank) tables, ",
    "transformed times and scaled Schoenfeld residuals, with the data each fit used.")),
  survival_version = str_(as.character(packageVersion("survival"))),
  data = data_json,
  cases = do.call(obj, cases),
  random = paste0("[", paste(random_cases, collapse = ",\n"), "]")), "\n")
