"""Labels of the rebuilt document in English and in Russian.

The Russian headings, column and row labels are the seed document's own (with its emoji);
the English ones translate them. Measured cells are built from the templates below, so
both languages show the same figures.
"""
from __future__ import annotations

LANGS = ("en", "ru")

# The seed document's four tables: its headings, row and column labels, in both languages (its claims:
# report/document/claims.py).
DOC = {
    "comparison": {"en": "📊 Comparison", "ru": "📊 Сравнение"},
    "choose": {"en": "🏁 Which library to choose?", "ru": "🏁 Какую библиотеку выбрать?"},
    "activations": {"en": "🔧 Main activation functions", "ru": "🔧 Основные активационные функции"},
    "layers": {"en": "🧠 Activations by layer", "ru": "🧠 Применение по слоям"},
    "col_feature": {"en": "Feature", "ru": "Характеристика"},
    "col_tf.keras": {"en": "TensorFlow (tf.keras)", "ru": "TensorFlow (tf.keras)"},
    "col_keras": {"en": "Keras (standalone)", "ru": "Keras (отдельно)"},
    "col_torch": {"en": "PyTorch", "ru": "PyTorch"},
    "col_flax": {"en": "Flax (JAX)", "ru": "Flax (JAX)"},  # a target family outside the document's columns
    "row_api": {"en": "API level", "ru": "Уровень API"},
    "row_ease": {"en": "Ease of use", "ru": "Простота использования"},
    "row_production": {"en": "Popularity in production", "ru": "Популярность в продакшн"},
    "row_learning": {"en": "Suitable for learning", "ru": "Подходит для обучения"},
    "row_dynamic": {"en": "Dynamic execution", "ru": "Динамическое выполнение"},
    "row_hf": {"en": "Used by HuggingFace", "ru": "Используется HuggingFace"},
    "col_goal": {"en": "Goal", "ru": "Цель"},
    "col_recommendation": {"en": "Recommendation", "ru": "Рекомендация"},
    "goal_quick": {"en": "Quick start / learning", "ru": "Быстрый старт / обучение"},
    "goal_research": {"en": "Flexibility and research", "ru": "Гибкость и исследования"},
    "goal_production": {"en": "Deployment to production / mobile", "ru": "Вывод в продакшн / мобильные"},
    "goal_llm": {"en": "Working with language models", "ru": "Работа с языковыми моделями"},
    "goal_speed": {"en": "Fastest training step (this spec, CPU)", "ru": "Самый быстрый шаг обучения (эта модель, CPU)"},
    "col_name": {"en": "Name", "ru": "Название"},
    "col_formula": {"en": "Formula", "ru": "Формула"},
    "col_features": {"en": "Features", "ru": "Особенности"},
    "col_where": {"en": "Where used", "ru": "Где используется"},
    "col_which": {"en": "Which function", "ru": "Какая функция"},
    "where_hidden": {"en": "Hidden layers", "ru": "Скрытые слои"},
    "where_binary": {"en": "Output (binary classification)", "ru": "Выход (бинарная классификация)"},
    "where_multiclass": {"en": "Output (multiclass classification)", "ru": "Выход (многоклассовая классификация)"},
    "where_regression": {"en": "Output (regression)", "ru": "Выход (регрессия)"},
}

ACTIVATION_DOC = {
    "sigmoid": {"formula": "σ(x) = 1 / (1 + e^(−x))",
                "en": "Output from 0 to 1. Good for probabilities. Can cause **vanishing gradient**.",
                "ru": "Выход от 0 до 1. Хороша для вероятностей. Может вызывать **vanishing gradient**."},
    "tanh": {"formula": "tanh(x) = (e^x − e^(−x)) / (e^x + e^(−x))",
             "en": "From −1 to 1. Zero-centred. Gradients can vanish.",
             "ru": "От -1 до 1. Центрирована. Могут исчезать градиенты."},
    "relu": {"formula": "f(x) = max(0, x)",
             "en": "Fast, popular. The \"dead neurons\" problem.",
             "ru": "Быстрая, популярная. Проблема «мертвых нейронов»."},
    "leaky_relu": {"formula": "f(x) = max(0.01x, x)",
                   "en": "An alternative to ReLU. Avoids \"dead neurons\".",
                   "ru": "Альтернатива ReLU. Избегает «мертвых нейронов»."},
    "elu": {"formula": "f(x) = x if x > 0, else α(e^x − 1)",
            "en": "Smoother, but more expensive to compute.",
            "ru": "Плавнее, но дороже по вычислениям."},
    "softmax": {"formula": "softmax(x_i) = e^(x_i) / Σ e^(x_j)",
                "en": "Used on the output layer for multiclass classification.",
                "ru": "Используется на выходном слое для многоклассовой классификации."},
}
ACTIVATION_NAMES = {"sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "ReLU", "leaky_relu": "Leaky ReLU", "elu": "ELU",
                    "softmax": "Softmax", "linear": "linear"}
_ACTIVATION_NAMES_RU = {"linear": "линейная"}

# Units of measured figures (English symbols are the keys).
UNITS = {"s": {"ru": "с"}, "ms": {"ru": "мс"}, "µs": {"ru": "мкс"}, "B": {"ru": "Б"}, "KiB": {"ru": "КиБ"},
         "MiB": {"ru": "МиБ"}, "GiB": {"ru": "ГиБ"}}


def activation_name(name: str, lang: str = "en") -> str:
    """Display name of an activation (``linear`` is translated; the others are proper names)."""
    return (_ACTIVATION_NAMES_RU.get(name) if lang == "ru" else None) or ACTIVATION_NAMES[name]


def unit(symbol: str, lang: str = "en") -> str:
    """A unit symbol in ``lang``."""
    return UNITS.get(symbol, {}).get(lang, symbol)


# Titles, axes and legends of the PNG plots (report/plots.py).
PLOT = {
    "numpy_reference": {"en": "numpy reference", "ru": "эталон numpy"},
    "f_autodiff": {"en": "{title}: f'(x) by autodiff", "ru": "{title}: f′(x), автодифф."},
    "f_of_x": {"en": "{title}: f(x)", "ru": "{title}: f(x)"},
    "diff_f": {"en": "|f - numpy| per framework", "ru": "|f − numpy| по фреймворкам"},
    "diff_df": {"en": "|f' - numpy| per framework", "ru": "|f′ − numpy| по фреймворкам"},
    "softmax_title": {"en": "Softmax, y₀ of softmax(x, 0, 0)", "ru": "Softmax, y₀ из softmax(x, 0, 0)"},
    "train_loss": {"en": "training loss (as the framework reports it)",
                   "ru": "потери на обучении (как их сообщает фреймворк)"},
    "val_loss": {"en": "validation loss (computed by frameworkbench)",
                 "ru": "потери на валидации (считает frameworkbench)"},
    "epoch": {"en": "epoch", "ru": "эпоха"},
    "step_ms_iqr": {"en": "median step (ms), whisker = IQR", "ru": "медианный шаг (мс), «ус» = IQR"},
    "eager": {"en": "eager", "ru": "eager"},
    "compiled": {"en": "compiled", "ru": "скомпилированный"},
    "step_ms_log": {"en": "median step (ms, log)", "ru": "медианный шаг (мс, лог. шкала)"},
    "dense_layer": {"en": "dense layer (1 = first)", "ru": "полносвязный слой (1 = первый)"},
    "grad_at_init": {"en": "‖∂L/∂W‖ at initialisation", "ru": "‖∂L/∂W‖ при инициализации"},
    "at_init": {"en": "at initialisation", "ru": "при инициализации"},
    "after_training": {"en": "after training", "ru": "после обучения"},
    "units_negative": {"en": "% of hidden units ≤ 0 on every row", "ru": "% скрытых нейронов ≤ 0 на всех строках"},
    "dead_title": {"en": "ReLU: dead (zero gradient); leaky ReLU / ELU: negative but still passing a gradient",
                   "ru": "ReLU: мёртвые (нулевой градиент); leaky ReLU / ELU: отрицательные, но градиент проходит"},
    "val_accuracy": {"en": "validation accuracy", "ru": "точность на валидации"},
    "val_mse": {"en": "validation MSE (lower is better)", "ru": "MSE на валидации (меньше — лучше)"},
}


def plot_text(key: str, lang: str = "en", **values) -> str:
    """A plot label in ``lang``, formatted."""
    text = PLOT[key][lang]
    return text.format(**values) if values else text

# Everything else the report says.
TEXT = {
    "title": {"en": "TensorFlow, Keras and PyTorch: the seed document rebuilt from measurements",
              "ru": "TensorFlow, Keras и PyTorch: обзор, пересобранный по измерениям"},
    "intro": {
        "en": "Every table of the seed document (`shared/seed-document.md`) rebuilt cell by cell from runs stored in "
              "the results database. Each measured cell shows the figure, then the document's claim and whether the "
              "measurement agrees: {flags}. A cell that could not be measured says why. Methods are in the notes "
              "under each table; run ids, environment and the commands that regenerate this file are at the end.",
        "ru": "Все таблицы исходного документа (`shared/seed-document.md`), пересобранные ячейка за ячейкой из "
              "запусков в базе результатов. В каждой измеренной ячейке — цифра, затем утверждение документа и "
              "совпадает ли с ним измерение: {flags}. Ячейка, которую не удалось измерить, объясняет почему. "
              "Методы — в примечаниях под таблицами; идентификаторы запусков, окружение и команды, которые "
              "воспроизводят этот файл, — в конце."},
    "flag_agree": {"en": "✔ agrees", "ru": "✔ совпадает"},
    "flag_disagree": {"en": "✘ disagrees", "ru": "✘ расходится"},
    "flag_partly": {"en": "≈ partly", "ru": "≈ частично"},
    "flag_unknown": {"en": "? not measured", "ru": "? не измерено"},
    "doc": {"en": "document", "ru": "документ"},
    "doc_says": {"en": "Document", "ru": "Документ"},
    "measured": {"en": "Measured", "ru": "Измерено"},
    "agreement": {"en": "Agreement", "ru": "Совпадение"},
    "deciding_figure": {"en": "Deciding figure", "ru": "Решающая цифра"},
    "measured_recommendation": {"en": "Measured recommendation", "ru": "Рекомендация по измерениям"},
    "margin": {"en": "Margin", "ru": "Отрыв"},
    "not_measured": {"en": "not measured yet: {why}", "ru": "ещё не измерено: {why}"},
    "no_runs": {"en": "no `{name}` runs in the database (run `frameworkbench study {study}`)",
                "ru": "в базе нет запусков `{name}` (запустите `frameworkbench study {study}`)"},
    "failed": {"en": "failed: {error}", "ru": "ошибка: {error}"},
    "cannot_measure": {"en": "cannot be measured here", "ru": "здесь не измерить"},
    "ok": {"en": "✓", "ru": "✓"},
    "fail_mark": {"en": "✗", "ru": "✗"},
    "fit_level": {"en": "high-level `fit`", "ru": "высокий уровень (`fit`)"},
    "loop_level": {"en": "low-level custom loop", "ru": "низкий уровень (свой цикл обучения)"},
    "no_fit_torch": {"en": "no `fit` target: PyTorch itself has no built-in `fit`",
                     "ru": "цели с `fit` нет: в самом PyTorch нет встроенного `fit`"},
    "none_ran": {"en": "none ran", "ru": "ни одна не запускалась"},
    "lines": {"en": "{n} lines", "ru": "строк: {n}"},
    "lines_cell": {"en": "code: {items}", "ru": "код: {items}"},
    "codegen_checked": {"en": "ran, {params} params ✓", "ru": "запущен, параметров {params} ✓"},
    "codegen_bad": {"en": "did not run: {error}", "ru": "не запустился: {error}"},
    "first_result": {"en": "first result (import + build + 1st epoch): {items}",
                     "ru": "первый результат (импорт + сборка + 1-я эпоха): {items}"},
    "eager_yes": {"en": "eager", "ru": "eager"},
    "eager_no": {"en": "compiled", "ru": "компилируется"},
    "eager_default": {"en": "default: {what} ({calls}× step body for {steps} steps)",
                      "ru": "по умолчанию: {what} (тело шага выполнено {calls}× за {steps} шагов)"},
    "eager_ratio": {"en": "eager ÷ compiled step: {ratio} (the other way: {other})",
                    "ru": "eager ÷ скомпилированный шаг: {ratio} (другой режим: {other})"},
    "eager_other_failed": {"en": "{how}: {error}", "ru": "{how}: {error}"},
    "learning_cell": {"en": "eager by default: {eager}; custom loop ran: {loop} → score {score}/2",
                      "ru": "eager по умолчанию: {eager}; свой цикл обучения: {loop} → балл {score}/2"},
    "yes": {"en": "yes", "ru": "да"},
    "no": {"en": "no", "ru": "нет"},
    "mobile": {"en": "mobile", "ru": "мобильный"},
    "cited": {"en": "Cited, not measured", "ru": "Цитируется, не измерено"},
    "cited_intro": {
        "en": "This row of the document cannot be measured by running models; it is shown as the document states "
              "it, with a public source, apart from the measured rows.",
        "ru": "Эту строку документа нельзя измерить запуском моделей; она показана так, как в документе, с "
              "открытым источником, отдельно от измеренных строк."},
    "hf_source": {
        "en": "Transformers v5 migration guide: \"We're removing the TensorFlow and Jax parts of the library … keeping "
              "`torch` as the only backend\" (huggingface/transformers, MIGRATION_GUIDE_V5.md, PR #40760).",
        "ru": "Руководство по миграции Transformers v5: «We're removing the TensorFlow and Jax parts of the library … "
              "keeping `torch` as the only backend» (huggingface/transformers, MIGRATION_GUIDE_V5.md, PR #40760)."},
    "source": {"en": "Source", "ru": "Источник"},
    # the language-model row (report/document/llm.py)
    "cited_short": {"en": "cited", "ru": "цитата"},
    "no_lm_runs": {"en": "no `{name}` runs in the database (run `frameworkbench lm-check`)",
                   "ru": "в базе нет запусков `{name}` (запустите `frameworkbench lm-check`)"},
    "no_transformer_runs": {
        "en": "no `{name}` runs in the database (run `frameworkbench run specs/{name}.yaml --targets all` and "
              "`frameworkbench parity specs/{name}.yaml --targets all`)",
        "ru": "в базе нет запусков `{name}` (запустите `frameworkbench run specs/{name}.yaml --targets all` и "
              "`frameworkbench parity specs/{name}.yaml --targets all`)"},
    "lm_step_params": {"en": "one training step; {params} parameters", "ru": "один шаг обучения; параметров {params}"},
    "lm_check_table": {"en": "The library check (`frameworkbench lm-check`, newest `{name}` record per target):",
                       "ru": "Проверка библиотек (`frameworkbench lm-check`, последняя запись `{name}` для "
                             "каждой цели):"},
    "lm_transformer_table": {
        "en": "The tiny transformer (`{name}`, aligned policy: `frameworkbench run` and `frameworkbench parity`, "
              "newest spec version; medians over seeds):",
        "ru": "Маленький трансформер (`{name}`, политика aligned: `frameworkbench run` и `frameworkbench parity`, "
              "последняя версия спецификации; медианы по сидам):"},
    "lm_unsupported": {"en": "no classes for this framework", "ru": "нет классов для этого фреймворка"},
    "lm_skipped": {"en": "library not installed", "ru": "библиотека не установлена"},
    "lm_failed": {"en": "failed", "ru": "ошибка"},
    "lm_timeout": {"en": "timed out", "ru": "превышено время"},
    "lm_nowhere": {"en": "none: `{library}` trained in no framework", "ru": "нет: `{library}` не обучил модель ни в "
                                                                            "одном фреймворке"},
    "lm_transformer": {"en": "tiny transformer (`{name}`): trained on {trained}/{n} targets",
                       "ru": "маленький трансформер (`{name}`): обучен на {trained}/{n} целях"},
    "lm_parity_same": {"en": "parity `same` on {same}/{checked} checked",
                       "ru": "паритет `same` на {same}/{checked} проверенных"},
    "lm_no_parity": {"en": "parity not measured yet (run `frameworkbench parity specs/{name}.yaml --targets all`)",
                     "ru": "паритет ещё не измерен (запустите `frameworkbench parity specs/{name}.yaml "
                           "--targets all`)"},
    "lm_fastest": {"en": "fastest median step", "ru": "самый быстрый медианный шаг"},
    "lm_details": {"en": "Language models: the measurements behind the row",
                   "ru": "Языковые модели: измерения, на которых основана строка"},
    "lm_library": {"en": "library", "ru": "библиотека"},
    "lm_status": {"en": "status", "ru": "статус"},
    "lm_model": {"en": "model class", "ru": "класс модели"},
    "lm_params": {"en": "parameters", "ru": "параметров"},
    "lm_step": {"en": "one training step (first call)", "ru": "один шаг обучения (первый вызов)"},
    "lm_loss": {"en": "loss before → after the step", "ru": "потери до → после шага"},
    "lm_reason": {"en": "reason / error", "ru": "причина / ошибка"},
    "lm_memory": {"en": "peak memory", "ru": "пиковая память"},
    "lm_device": {"en": "device", "ru": "устройство"},
    "lm_parity": {"en": "parity (aligned, worst seed)", "ru": "паритет (aligned, худший сид)"},
    "notes": {"en": "Notes", "ru": "Примечания"},
    "plots": {"en": "Plots", "ru": "Графики"},
    "runs": {"en": "Runs", "ru": "Запуски"},
    "environment": {"en": "Environment", "ru": "Окружение"},
    "regenerate": {"en": "Regenerate", "ru": "Как воспроизвести"},
    "regenerate_text": {"en": "The studies and the language-model runs, then this report (same database → "
                              "byte-identical markdown):",
                        "ru": "Исследования и запуски для языковых моделей, затем этот отчёт (та же база → побайтно "
                              "тот же markdown):"},
    "host": {"en": "Host", "ru": "Машина"},
    "threads": {"en": "threads per run", "ru": "потоков на запуск"},
    "package": {"en": "package", "ru": "пакет"},
    "version": {"en": "version", "ru": "версия"},
    "experiment": {"en": "experiment", "ru": "эксперимент"},
    "run_ids": {"en": "run ids", "ru": "идентификаторы запусков"},
    "statuses": {"en": "statuses", "ru": "статусы"},
    "target": {"en": "target", "ru": "цель"},
    "col_ok": {"en": "ok runs", "ru": "успешных"},
    "col_import": {"en": "import", "ru": "импорт"},
    "col_build": {"en": "build", "ru": "сборка"},
    "col_first_epoch": {"en": "1st epoch", "ru": "1-я эпоха"},
    "col_median_step": {"en": "median step", "ru": "медианный шаг"},
    "col_step_iqr": {"en": "step IQR", "ru": "IQR шага"},
    "col_val_loss": {"en": "val loss", "ru": "потери (валидация)"},
    "col_val_accuracy": {"en": "val accuracy", "ru": "точность (валидация)"},
    "rank": {"en": "rank", "ru": "ранг"},
    "cheapest": {"en": "cheapest of the six in {k}/{n} frameworks", "ru": "самая дешёвая из шести в {k}/{n} фреймворках"},
    "best_multiclass": {"en": "best multiclass output", "ru": "лучший многоклассовый выход"},
    "spec_line": {"en": "Spec of table 1 and 2 (`study:frameworks:*`)", "ru": "Модель таблиц 1 и 2 (`study:frameworks:*`)"},
    "spec_text": {"en": "input {inp} → {layers}, {loss}, {opt} lr {lr}, batch {bs}, {epochs} epochs, {source} data "
                        "({n_train} training / {n_val} validation rows).",
                  "ru": "вход {inp} → {layers}, {loss}, {opt} lr {lr}, батч {bs}, эпох {epochs}, данные {source} "
                        "({n_train} обучающих / {n_val} валидационных строк)."},
    "training_runs": {"en": "Training runs behind the comparison", "ru": "Обучение, на котором основано сравнение"},
    "loss_curves": {"en": "Loss per epoch and target (median over seeds); the lines overlap where the targets "
                          "compute the same thing on the same data, batches and initial weights",
                    "ru": "Потери по эпохам для каждой цели (медиана по сидам); линии совпадают там, где цели "
                          "считают одно и то же на одних данных, батчах и начальных весах"},
    "step_bars": {"en": "Median training step per target; whisker length = IQR of the steps",
                  "ru": "Медианный шаг обучения по целям; длина «усов» = IQR шагов"},
    "activation_plot": {"en": "{name} and its derivative as computed by each framework (autodiff), and each "
                              "framework's distance to the numpy reference",
                        "ru": "{name} и её производная, как их вычисляет каждый фреймворк (автодифференцированием), "
                              "и расстояние каждого фреймворка до эталона numpy"},
    "range": {"en": "range on [−6, 6]", "ru": "диапазон на [−6, 6]"},
    "max_deriv": {"en": "max f′ (at x)", "ru": "макс. f′ (при x)"},
    "deriv_5": {"en": "f′(−5) / f′(5)", "ru": "f′(−5) / f′(5)"},
    "jump_0": {"en": "f′ jump across 0", "ru": "скачок f′ в 0"},
    "mean_normal": {"en": "mean on N(0, 1)", "ru": "среднее на N(0, 1)"},
    "cost_rel": {"en": "fwd+bwd cost vs ReLU", "ru": "стоимость прямого+обратного относительно ReLU"},
    "delta_frameworks": {"en": "max \\|Δ\\| between frameworks (f / f′, x ≠ 0)",
                         "ru": "макс. \\|Δ\\| между фреймворками (f / f′, x ≠ 0)"},
    "delta_reference": {"en": "max \\|Δ\\| to numpy (f / f′, x ≠ 0)", "ru": "макс. \\|Δ\\| к numpy (f / f′, x ≠ 0)"},
    "deriv_at_0": {"en": "f′(0) by framework", "ru": "f′(0) по фреймворкам"},
    "activation": {"en": "activation", "ru": "активация"},
    "measured_properties": {"en": "Measured properties (median over frameworks)",
                            "ru": "Измеренные свойства (медиана по фреймворкам)"},
    "cost_table": {"en": "Forward+backward cost relative to ReLU, per framework",
                   "ru": "Стоимость прямого+обратного прохода относительно ReLU, по фреймворкам"},
    "deep_table": {"en": "Deep MLP on {dataset}: dead units and vanishing gradients",
                   "ru": "Глубокий MLP на {dataset}: мёртвые нейроны и затухание градиентов"},
    "hidden_activation": {"en": "hidden activation", "ru": "скрытая активация"},
    "val_metric": {"en": "val {metric}", "ru": "{metric} (валидация)"},
    "grad_first_init": {"en": "1st-layer grad norm at init", "ru": "норма градиента 1-го слоя при инициализации"},
    "grad_first_final": {"en": "1st-layer grad norm after training", "ru": "норма градиента 1-го слоя после обучения"},
    "grad_ratio": {"en": "1st / last layer grad norm at init", "ru": "градиент 1-го / последнего слоя при иниц."},
    "dead_units": {"en": "dead units: init → trained", "ru": "мёртвые нейроны: иниц. → после обучения"},
    "negative_units": {"en": "units negative on every row: init → trained",
                       "ru": "нейроны, отрицательные на всех строках: иниц. → после обучения"},
    "zero_grad_units": {"en": "units with zero gradient", "ru": "нейроны с нулевым градиентом"},
    "grid_table": {"en": "The whole grid: validation {metric}, median over seeds (n runs)",
                   "ru": "Вся сетка: {metric} на валидации, медиана по сидам (n запусков)"},
    "task_binary": {"en": "binary", "ru": "бинарная"},
    "task_multiclass": {"en": "multiclass", "ru": "многоклассовая"},
    "task_regression": {"en": "regression", "ru": "регрессия"},
    "metric_accuracy": {"en": "accuracy", "ru": "точность"},
    "metric_mse": {"en": "mse", "ru": "MSE"},
    "metric_loss": {"en": "loss", "ru": "потери"},
    "dataset_synthetic": {"en": "synthetic", "ru": "синтетические"},
    "architecture": {"en": "hidden dense layers {widths}, {opt} lr {lr}, {epochs} epochs, batch {bs}, standardised "
                           "features (and regression targets)",
                     "ru": "скрытые слои {widths}, {opt} lr {lr}, эпох {epochs}, батч {bs}, стандартизованные "
                           "признаки (и цели регрессии)"},
    "vs": {"en": "vs", "ru": "против"},
    "pp": {"en": "pp", "ru": "п. п."},
    "max_f": {"en": "max f′", "ru": "макс. f′"},
    "max_sum": {"en": "max |Σ − 1|", "ru": "макс. |Σ − 1|"},
    "relu_abs": {"en": "ReLU (abs.)", "ru": "ReLU (абс.)"},
    "params_n": {"en": "params {n}", "ru": "параметров {n}"},
    "cores": {"en": "{n} cores", "ru": "ядер: {n}"},
    "task": {"en": "task", "ru": "задача"},
    "dataset": {"en": "dataset", "ru": "данные"},
    "hidden": {"en": "hidden", "ru": "скрытые"},
    "output_loss": {"en": "output + loss", "ru": "выход + потери"},
    "winner": {"en": "{what}: {value} ({n} runs)", "ru": "{what}: {value} ({n} запусков)"},
    "over": {"en": "{margin} over {other} ({value})", "ru": "{margin} над {other} ({value})"},
    "tie": {"en": "tie with {other}", "ru": "ничья с {other}"},
    "mean_rank": {"en": "mean rank {rank} over {n} task/dataset cells", "ru": "средний ранг {rank} по {n} ячейкам задача/данные"},
    "grid_plot": {"en": "Output activation × loss per task (median validation metric)",
                  "ru": "Выходная активация × потери по задачам (медиана метрики на валидации)"},
    "grad_plot": {"en": "Gradient norm per layer at initialisation (deep MLP)",
                  "ru": "Норма градиента по слоям при инициализации (глубокий MLP)"},
    "dead_plot": {"en": "Dead / negative units after training (deep MLP)",
                  "ru": "Мёртвые / отрицательные нейроны после обучения (глубокий MLP)"},
    "eager_plot": {"en": "Eager vs compiled training step per target",
                   "ru": "Eager- и скомпилированный шаг обучения по целям"},
}


class Lang:
    """``t(key, **values)``: the label in this language, formatted."""

    def __init__(self, lang: str) -> None:
        if lang not in LANGS:
            raise ValueError(f"unknown language {lang!r}; expected one of: {', '.join(LANGS)}")
        self.lang = lang

    def __call__(self, key: str, **values) -> str:
        table = TEXT if key in TEXT else DOC
        text = table[key][self.lang]
        return text.format(**values) if values else text

    def note(self, key: str, **values) -> str:
        text = NOTES[key][self.lang]
        return text.format(**values) if values else text

# Method notes under the tables (``{placeholders}`` filled by the report).
NOTES = {
    "cmp_api": {
        "en": "API level: a level counts as measured when a target of that level trained this spec to the end "
              "(`study:frameworks:train`): `fit` targets call `model.fit`; loop targets run a hand-written training "
              "loop (`tf:gradienttape`: tf.GradientTape under tf.function; `keras:jax:stateless`: Keras' stateless "
              "API under jax.jit; `torch`: autograd + optimizer). ✔ when the levels that ran are the document's, ✘ "
              "when the document says \"only high\" and a low level ran, ≈ when fewer ran.",
        "ru": "Уровень API: уровень считается измеренным, если цель этого уровня обучила модель до конца "
              "(`study:frameworks:train`): цели `fit` вызывают `model.fit`; цели-циклы выполняют написанный вручную "
              "цикл обучения (`tf:gradienttape`: tf.GradientTape под tf.function; `keras:jax:stateless`: stateless "
              "API Keras под jax.jit; `torch`: autograd + оптимизатор). ✔ — запустились те уровни, что в документе; "
              "✘ — документ говорит «только высокий», а низкий уровень запустился; ≈ — запустилось меньше."},
    "cmp_ease": {
        "en": "Ease of use: non-blank, non-comment lines of the idiomatic script `frameworkbench codegen` writes for "
              "this spec (imports, model, compile/loss/optimizer, training; the shared data-loading part not "
              "counted), measured in the `codegen` worker mode, where the script is also run and its printed "
              "parameter count checked against the spec. Time to first result: import + build + first epoch of "
              "`study:frameworks:train`, median over seeds. Flag: the document's 👍 order (more 👍 = easier) "
              "against the fewest lines of any path in the column that ran; a tie gives ≈.",
        "ru": "Простота: непустые строки без комментариев в идиоматичном скрипте, который пишет `frameworkbench "
              "codegen` для этой модели (импорты, модель, compile/потери/оптимизатор, обучение; общая часть "
              "загрузки данных не считается); измерено в режиме воркера `codegen`, где скрипт ещё и запускается, а "
              "напечатанное им число параметров сверяется со спецификацией. Время до первого результата: импорт + "
              "сборка + первая эпоха из `study:frameworks:train`, медиана по сидам. Флаг: порядок 👍 документа "
              "(больше 👍 = проще) против наименьшего числа строк среди запустившихся путей колонки; ничья даёт ≈."},
    "cmp_prod": {
        "en": "Production: popularity cannot be measured by running models; what is measured is which export paths "
              "work here (`export` worker mode on the initial model of this spec): artifact size, median latency of "
              "one row through the reloaded artifact (200 calls after 10 warm-up calls) and its max |Δ| to the live "
              "model (in the run record). Flag: the document's ✅ order against the number of deployable formats "
              "that worked (SavedModel, TFLite, TorchScript, torch.export, ONNX, ExecuTorch; not the framework's own "
              "save file); ❌ contradicted by any working deployable export is ✘.",
        "ru": "Продакшн: популярность нельзя измерить запуском моделей; измеряется, какие пути экспорта здесь "
              "работают (режим воркера `export` на начальной модели этой спецификации): размер артефакта, медианная "
              "задержка одной строки через загруженный заново артефакт (200 вызовов после 10 разогревочных) и его "
              "макс. |Δ| к исходной модели (в записи запуска). Флаг: порядок ✅ документа против числа "
              "развёртываемых форматов, которые сработали (SavedModel, TFLite, TorchScript, torch.export, ONNX, "
              "ExecuTorch; собственный формат сохранения фреймворка не считается); ❌ при работающем экспорте — ✘."},
    "cmp_learn": {
        "en": "Suitable for learning: one point if the training step of the column's default target (tf.keras, "
              "keras:tensorflow — Keras 3's default backend —, torch) runs eagerly by default, so that a tensor "
              "inside the step can be printed and stepped through like plain Python (observed in the `dynamic` "
              "mode), one point if a hand-written training loop of that framework trained this spec. Flag: the "
              "document's ✅ order against these scores.",
        "ru": "Подходит для обучения: один балл, если шаг обучения цели колонки по умолчанию (tf.keras, "
              "keras:tensorflow — бэкенд Keras 3 по умолчанию —, torch) по умолчанию выполняется eagerly, так что "
              "тензор внутри шага можно напечатать и пройти отладчиком как обычный Python (наблюдается в режиме "
              "`dynamic`), и один балл, если написанный вручную цикл обучения этого фреймворка обучил модель. "
              "Флаг: порядок ✅ документа против этих баллов."},
    "cmp_dyn": {
        "en": "Dynamic execution: inside the training step (a wrapper around the compiled loss for Keras, a forward "
              "hook for torch) the worker records, at every call, whether the code runs eagerly "
              "(`tf.executing_eagerly()`, a concrete array vs a jit tracer in JAX, `torch.compiler.is_compiling()`). "
              "A step body that ran once per step is eager; one that ran a few times for hundreds of steps was "
              "traced and replayed as a compiled graph. The same target is then switched the other way "
              "(`run_eagerly=True`, `tf.config.run_functions_eagerly`, `jax.disable_jit`, `torch.compile`, "
              "`jit_compile=True`); the ratio is the eager median step over the compiled one (second epoch, after "
              "one warm-up epoch). Flag: tf.keras — not eager by default and eager mode works; Keras — ✔ if its "
              "default backend (tensorflow) is eager, ≈ if another backend is; PyTorch — eager by default.",
        "ru": "Динамическое выполнение: внутри шага обучения (обёртка вокруг функции потерь у Keras, forward hook у "
              "torch) воркер при каждом вызове записывает, выполняется ли код eagerly (`tf.executing_eagerly()`, "
              "конкретный массив или jit-трейсер в JAX, `torch.compiler.is_compiling()`). Тело шага, выполненное "
              "на каждом шаге, — eager; выполненное несколько раз на сотни шагов — оттрассировано и повторяется как "
              "скомпилированный граф. Затем та же цель переключается в другой режим (`run_eagerly=True`, "
              "`tf.config.run_functions_eagerly`, `jax.disable_jit`, `torch.compile`, `jit_compile=True`); "
              "отношение — медианный eager-шаг к скомпилированному (вторая эпоха, после разогревочной). Флаг: "
              "tf.keras — не eager по умолчанию, но eager-режим работает; Keras — ✔, если eager бэкенд по "
              "умолчанию (tensorflow), ≈, если другой бэкенд; PyTorch — eager по умолчанию."},
    "choose_quick": {
        "en": "Quick start / learning: the column whose idiomatic script for this spec is shortest (lines counted as "
              "in the comparison table; the script ran and printed the right parameter count); a tie goes to the "
              "shorter time to first result. ✔ when it is one the document names.",
        "ru": "Быстрый старт / обучение: колонка с самым коротким идиоматичным скриптом для этой модели (строки — "
              "как в таблице сравнения; скрипт запустился и напечатал верное число параметров); при ничьей — меньшее "
              "время до первого результата. ✔ — если это одна из названных документом."},
    "choose_research": {
        "en": "Flexibility and research: the highest learning score of the comparison table (eager by default on the "
              "default target + a hand-written loop trained the spec); columns on the same score are all named. ✔ "
              "when PyTorch alone wins, ≈ when it shares the top.",
        "ru": "Гибкость и исследования: наибольший балл «подходит для обучения» из таблицы сравнения (eager по "
              "умолчанию у цели по умолчанию + свой цикл обучения обучил модель); колонки с равным баллом названы "
              "все. ✔ — если PyTorch побеждает один, ≈ — если делит первое место."},
    "choose_production": {
        "en": "Production / mobile: the most deployable export formats that worked, a mobile format breaking ties; "
              "columns on the same score are all named. ✔ when TensorFlow alone wins, ≈ when it shares the top.",
        "ru": "Продакшн / мобильные: больше всего сработавших развёртываемых форматов экспорта, при ничьей решает "
              "мобильный формат; колонки с равным счётом названы все. ✔ — если TensorFlow побеждает один, ≈ — если "
              "делит первое место."},
    "choose_llm": {
        "en": "Language models, measured: the columns whose framework the installed HuggingFace `transformers` "
              "trains a model in (`frameworkbench lm-check`: a tiny randomly initialised BERT classifier built from "
              "its constructor arguments, nothing downloaded, trained one Adam step on a seeded batch, in a subprocess per target; "
              "\"no classes\" = the installed version has no model class for that framework). ✔ when that is "
              "PyTorch alone, ≈ when PyTorch and others, ✘ when not PyTorch. `keras-hub` (Keras 3's own library, "
              "checked on each backend) and the tiny transformer spec on every target (`tiny_transformer`: median "
              "step, peak memory, parity against the float64 reference) are figures beside it and do not decide the "
              "flag; the step of the library check is its first call (tracing and compilation included). The row "
              "marked cited is the document's, as it states it, with its public source.",
        "ru": "Языковые модели, измерено: колонки, во фреймворке которых установленная HuggingFace `transformers` "
              "обучает модель (`frameworkbench lm-check`: маленький BERT-классификатор со случайными весами, "
              "собранный из аргументов конструктора, без скачивания, один шаг Adam на батче с фиксированным сидом, в отдельном "
              "процессе для каждой цели; «нет классов» — в установленной версии нет класса модели для этого "
              "фреймворка). ✔ — если это один PyTorch, ≈ — PyTorch и другие, ✘ — не PyTorch. `keras-hub` "
              "(собственная библиотека Keras 3, проверена на каждом бэкенде) и маленький трансформер на каждой цели "
              "(`tiny_transformer`: медианный шаг, пиковая память, паритет с эталоном float64) приведены рядом и на "
              "флаг не влияют; шаг проверки библиотек — её первый вызов (с трассировкой и компиляцией). Строка с "
              "пометкой «цитата» — строка документа как есть, с открытым источником."},
    "choose_speed": {
        "en": "Fastest training step: median steady-state step (epochs after the first, medians over seeds) of every "
              "target on this spec on this machine's CPU; not a row of the document.",
        "ru": "Самый быстрый шаг: медианный установившийся шаг (эпохи после первой, медианы по сидам) каждой цели "
              "на этой модели на CPU этой машины; в документе такой строки нет."},
    "act_probe": {
        "en": "Probe (`activations` worker mode, every framework): each activation is the framework's own object "
              "that the models use (Keras `Activation`/`LeakyReLU`/`ELU` layer, torch `nn` module; leaky slope 0.01, "
              "ELU α 1), its derivative from the framework's autodiff, on x = −6 … 6 in steps of 0.01 (float32). "
              "Softmax is evaluated on (x, 0, 0) and its first component reported; its derivative is ∂y₀/∂x₀. "
              "Ranges and derivatives are medians over frameworks; \"max |Δ| between frameworks\" is the largest "
              "difference between any two frameworks on the stored curve (every 0.05), for the derivative away from "
              "the kink x = 0, where frameworks pick different one-sided derivatives (last column).",
        "ru": "Проба (режим воркера `activations`, каждый фреймворк): каждая активация — собственный объект "
              "фреймворка, которым пользуются модели (слой Keras `Activation`/`LeakyReLU`/`ELU`, модуль torch `nn`; "
              "наклон leaky 0.01, α ELU 1), производная — от автодифференцирования фреймворка, на x = −6 … 6 с шагом "
              "0.01 (float32). Softmax вычисляется на (x, 0, 0), показана первая компонента, производная — ∂y₀/∂x₀. "
              "Диапазоны и производные — медианы по фреймворкам; «макс. |Δ| между фреймворками» — наибольшая разница "
              "между любыми двумя фреймворками на сохранённой кривой (каждые 0.05), для производной — вне излома "
              "x = 0, где фреймворки берут разные односторонние производные (последний столбец)."},
    "act_cost": {
        "en": "Mean on N(0, 1): 100 000 seeded normal draws (± standard error). Cost: forward + backward of a "
              "1 048 576-element float32 tensor (tf.function / jax.jit / eager torch), median of 30 after 5 warm-up "
              "calls, divided by ReLU's in the same framework.",
        "ru": "Среднее на N(0, 1): 100 000 нормальных чисел с фиксированным сидом (± стандартная ошибка). "
              "Стоимость: прямой + обратный проход тензора float32 из 1 048 576 элементов (tf.function / jax.jit / "
              "eager torch), медиана 30 вызовов после 5 разогревочных, делённая на стоимость ReLU в том же "
              "фреймворке."},
    "act_deep": {
        "en": "Deep MLP (`train_stats` mode, `study:activations:deep`): dense layers as in the stored spec, trained "
              "on the batch plan; medians over targets and seeds. Dead units: hidden units whose pre-activation is "
              "≤ 0 on every training row (for ReLU: zero output and zero gradient on all of them; for leaky ReLU and "
              "ELU the same units still pass a gradient). Gradient norms: ‖∂L/∂W‖ of each dense kernel on 512 "
              "training rows; method: {method}.",
        "ru": "Глубокий MLP (режим `train_stats`, `study:activations:deep`): полносвязные слои как в сохранённой "
              "спецификации, обучение по плану батчей; медианы по целям и сидам. Мёртвые нейроны: скрытые нейроны, "
              "чья преактивация ≤ 0 на каждой обучающей строке (у ReLU — нулевой выход и нулевой градиент на всех "
              "строках; у leaky ReLU и ELU те же нейроны всё ещё пропускают градиент). Нормы градиента: ‖∂L/∂W‖ "
              "каждого ядра на 512 обучающих строках; метод: {method}."},
    "act_flags": {
        "en": "Flags: sigmoid — output in [0, 1] and vanishing (f′(5) < 0.01, first-layer gradient < 10 % of "
              "ReLU's); tanh — in [−1, 1], |mean on N(0, 1)| < 0.05, f′(5) < 0.01; ReLU — cheapest in most "
              "frameworks, dead units after training > 0 (\"popular\" is not measured); leaky ReLU — f′ on the "
              "negative side > 0, so no unit has a zero gradient; ELU — smaller derivative jump at 0 than ReLU and "
              "cost above ReLU's; softmax — outputs sum to 1 and the layer study's best multiclass output is "
              "softmax. Every part ✔ → ✔, some → ≈.",
        "ru": "Флаги: sigmoid — выход в [0, 1] и затухание (f′(5) < 0.01, градиент первого слоя < 10 % от ReLU); "
              "tanh — в [−1, 1], |среднее на N(0, 1)| < 0.05, f′(5) < 0.01; ReLU — самая дешёвая в большинстве "
              "фреймворков, мёртвые нейроны после обучения > 0 («популярная» не измеряется); leaky ReLU — f′ слева "
              "> 0, поэтому ни у одного нейрона градиент не нулевой; ELU — скачок производной в 0 меньше, чем у "
              "ReLU, и стоимость выше ReLU; softmax — выходы в сумме 1, и лучший многоклассовый выход в "
              "исследовании слоёв — softmax. Все части ✔ → ✔, некоторые → ≈."},
    "lay_grid": {
        "en": "Grid (`study:layers:grid`, on {targets} from the same initial weights and batches): {arch}; the metric is computed by frameworkbench on the validation split: "
              "accuracy for classification (threshold 0.5 / argmax, so it is defined for every output activation), "
              "MSE for regression (standardised target: 1.0 = predicting the mean). Mismatched pairs are those the "
              "spec validator accepts (cross-entropy needs sigmoid/softmax).",
        "ru": "Сетка (`study:layers:grid`, на {targets} с одинаковыми начальными весами и батчами): {arch}; метрику считает frameworkbench на валидационной выборке: точность (доля верных ответов) для "
              "классификации (порог 0.5 / argmax, поэтому она определена для любой выходной активации), MSE для "
              "регрессии (стандартизованная цель: 1.0 = предсказание среднего). Несогласованные пары — те, что "
              "принимает валидатор спецификаций (кросс-энтропии нужен sigmoid/softmax)."},
    "lay_rank": {
        "en": "Ranking: in every (dataset, target) cell the candidates are ranked by their median over seeds (ties "
              "share the rank); the mean rank orders them; the figure after the rank is the median of the cells' medians. Output rows: ReLU hidden layers, every output × loss "
              "pair. Hidden row: every hidden activation with the task's matched output, all tasks pooled. Margin: "
              "the winner against the best pair with a different output activation, per dataset (accuracy in "
              "percentage points, MSE in its units).",
        "ru": "Ранжирование: в каждой ячейке (данные, цель) кандидаты ранжируются по медиане по сидам (равные делят "
              "ранг); порядок — по среднему рангу; число после ранга — медиана медиан ячеек. Строки выходов: скрытые слои ReLU, все пары выход × потери. "
              "Строка скрытых слоёв: каждая скрытая активация с согласованным выходом задачи, все задачи вместе. "
              "Отрыв: победитель против лучшей пары с другой выходной активацией, по каждому набору данных "
              "(точность — в процентных пунктах, п. п., MSE — в его единицах)."},
    "lay_flags": {
        "en": "Flags: output rows ✔ when the best pair's output activation is the document's (regression: linear), "
              "≈ when it ties with another activation; hidden row ✔ when the document's activations all rank above "
              "the others, ≈ when the last is one the document leaves out but another one it leaves out ranks above "
              "one of its own, ✘ when one of the document's ranks last.",
        "ru": "Флаги: строки выходов ✔ — если выходная активация лучшей пары та, что в документе (регрессия: "
              "линейная), ≈ — если ничья с другой активацией; строка скрытых слоёв ✔ — если все активации документа "
              "стоят выше остальных, ≈ — если последняя — не из документа, но другая не из документа обошла одну из "
              "его активаций, ✘ — если последней оказалась активация из документа."},
}
