"""Labels of the rebuilt document in English and in Russian.

The Russian headings, column and row labels are the seed document's own (with its emoji);
the English ones translate them. Measured cells are built from the templates below, so
both languages show the same figures.
"""
from __future__ import annotations

from .method_notes import NOTES

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
